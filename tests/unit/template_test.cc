#include <gtest/gtest.h>

#include "emit/template.h"

namespace cppsvc::emit {

// Exposed for this test: renders a template given as text.
std::string RenderText(std::string_view text, const Data& data);

namespace {

Data View() {
  Data d;
  d.set("yes", true);
  d.set("no", false);
  d.set("empty", List());
  Data one = List();
  one.push_back(Data("x"));
  d.set("one", one);
  d.set("code", "a < b && c > d");
  return d;
}

// A form the chosen one is not stays false inside it, even where an outer
// value of the same name is true.
TEST(Template, OneOfSetsEveryFormSoNoneComesFromOutside) {
  Data d;
  d.set("fill", true);
  d.set("item", OneOf({"fill", "clear"}, "clear"));
  EXPECT_EQ(RenderText("{{#item}}{{#fill}}F{{/fill}}{{#clear}}C{{/clear}}{{/item}}", d), "C");
  d.set("item", OneOf({"fill", "clear"}, "fill"));
  EXPECT_EQ(RenderText("{{#item}}{{#fill}}F{{/fill}}{{#clear}}C{{/clear}}{{/item}}", d), "F");
}

TEST(Template, StandaloneSectionLinesVanishWhetherOrNotRendered) {
  EXPECT_EQ(RenderText("a\n{{#no}}\nF\n{{/no}}\nb\n", View()), "a\nb\n");
  EXPECT_EQ(RenderText("a\n{{#empty}}\nE\n{{/empty}}\nb\n", View()), "a\nb\n");
  EXPECT_EQ(RenderText("a\n{{#yes}}\nT\n{{/yes}}\nb\n", View()), "a\nT\nb\n");
  EXPECT_EQ(RenderText("a\n  {{#one}}\n{{.}}\n  {{/one}}\nb\n", View()), "a\nx\nb\n");
  EXPECT_EQ(RenderText("a\n{{^no}}\nN\n{{/no}}\nb\n", View()), "a\nN\nb\n");
}

TEST(Template, BlankLinesInsideSectionsAreKept) {
  EXPECT_EQ(RenderText("a\n{{#yes}}\n\nT\n{{/yes}}\nb\n", View()), "a\n\nT\nb\n");
  EXPECT_EQ(RenderText("a\n{{#no}}\n\nT\n{{/no}}\nb\n", View()), "a\nb\n");
}

TEST(Template, InlineSectionsAndNoHtmlEscaping) {
  EXPECT_EQ(RenderText("[{{#yes}}y{{/yes}}{{#no}}n{{/no}}]\n", View()), "[y]\n");
  EXPECT_EQ(RenderText("{{code}}\n", View()), "a < b && c > d\n");
}

TEST(Template, EmbeddedTemplatesRender) {
  Data d;
  d.set("source", "x.proto");
  EXPECT_NO_THROW(Render("handler_base/handler_base.h.mustache", d));
  EXPECT_THROW(Render("no/such.mustache", d), std::logic_error);
}

TEST(Template, FitLaysOutEachRenderedStatement) {
  Data d;
  d.set("name", std::string(90, 'n'));
  EXPECT_EQ(RenderText("{{#fit}}  Call({{name}}, second);{{/fit}}\n", d),
            "  Call(" + std::string(90, 'n') + ",\n       second);\n");
  // A block opener written as `{ {{/fit}}` loses its trailing space.
  EXPECT_EQ(RenderText("{{#fit}}void F() { {{/fit}}\n", d), "void F() {\n");
}

TEST(Template, LineCommentWrapsWordsAcrossTemplateLines) {
  Data d;
  d.set("yes", true);
  EXPECT_EQ(
      RenderText("{{#line_comment}}  one{{#yes}} two{{/yes}}\n  three{{/line_comment}}\nx\n", d),
      "  // one two three\nx\n");
}

// Every embedded template is a partial; its tag's own line vanishes.
TEST(Template, PartialLinesVanishLikeSectionLines) {
  EXPECT_EQ(RenderText("a\n{{>repository/push_keys}}\nb\n", View()),
            "a\n  ::cppsvc::impl::SqlParams p;\nb\n");
}

}  // namespace
}  // namespace cppsvc::emit
