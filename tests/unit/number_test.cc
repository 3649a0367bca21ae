#include <cmath>
#include <cstdlib>
#include <limits>

#include <gtest/gtest.h>

#include "text/number.h"

namespace cppsvc::text {
namespace {

TEST(Number, WholeNumbersHaveNoFraction) {
  EXPECT_EQ(Number(5), "5");
  EXPECT_EQ(Number(-40), "-40");
  EXPECT_EQ(Number(0), "0");
}

TEST(Number, IsTheShortestTextThatReadsBack) {
  EXPECT_EQ(Number(0.25), "0.25");
  EXPECT_EQ(Number(0.1), "0.1");
  EXPECT_EQ(Number(1e30), "1e+30");
  // Seven significant digits: printf's %g would write 1.23457e+06.
  EXPECT_EQ(Number(1234567.5), "1234567.5");
  for (double d : {1.0 / 3, 2.0 / 3e-7, 123456789.123, -9.87654321e-12})
    EXPECT_EQ(std::strtod(Number(d).c_str(), nullptr), d) << Number(d);
}

TEST(Number, NamesWhatIsNotANumber) {
  EXPECT_EQ(Number(std::nan("")), "nan");
  EXPECT_EQ(Number(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(Number(-std::numeric_limits<double>::infinity()), "-inf");
}

}  // namespace
}  // namespace cppsvc::text
