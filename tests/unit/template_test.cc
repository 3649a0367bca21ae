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

}  // namespace
}  // namespace cppsvc::emit
