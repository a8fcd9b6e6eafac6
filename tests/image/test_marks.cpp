// Visual-prompt marks: parsing, drawing (clipped), and saving what the model sees.
#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/image/load.hpp"
#include "vlm/image/marks.hpp"

using namespace vlm;

namespace {
Image black(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(size_t(w) * size_t(h) * 3, 0);
  img.source = "<test>";
  return img;
}
bool is(const Image& img, int x, int y, std::array<uint8_t, 3> rgb) {
  return img.at(y, x, 0) == rgb[0] && img.at(y, x, 1) == rgb[1] && img.at(y, x, 2) == rgb[2];
}
int count(const Image& img, std::array<uint8_t, 3> rgb) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += is(img, x, y, rgb);
  return n;
}
}  // namespace

TEST_CASE("mark specs parse, and malformed ones are explained", "[image][marks]") {
  const Mark m = parse_mark("ellipse:1,2,30,40:#00ff80:5");
  CHECK(m.kind == Mark::Kind::Ellipse);
  CHECK((m.x0 == 1 && m.y0 == 2 && m.x1 == 30 && m.y1 == 40));
  CHECK(m.colour == std::array<uint8_t, 3>{0, 255, 128});
  CHECK(m.width == 5);
  const Mark d = parse_mark("rect:0,0,10,10");
  CHECK(d.colour == std::array<uint8_t, 3>{255, 0, 0});
  CHECK(d.width == 3);
  CHECK_THROWS_WITH(parse_mark("circle:1,2,3,4"), Catch::Contains("unknown kind 'circle'"));
  CHECK_THROWS_WITH(parse_mark("rect:1,2,3"), Catch::Contains("four integers"));
  CHECK_THROWS_WITH(parse_mark("rect:1,2,x,4"), Catch::Contains("four integers"));
  CHECK_THROWS_WITH(parse_mark("rect:1,2,3,4:mauve"), Catch::Contains("unknown colour 'mauve'"));
  CHECK_THROWS_WITH(parse_mark("rect:1,2,3,4:red:0"), Catch::Contains("width"));
  CHECK_THROWS_WITH(parse_mark("rect"), Catch::Contains("expected KIND"));
}

TEST_CASE("marks are drawn where asked, clipped to the image", "[image][marks]") {
  const std::array<uint8_t, 3> red{255, 0, 0};
  Image img = black(64, 48);
  const std::vector<Mark> rect{parse_mark("rect:10,10,40,30:red:3")};
  draw_marks(img, rect);
  CHECK(is(img, 10, 10, red));   // corner
  CHECK(is(img, 25, 30, red));   // bottom edge
  CHECK(is(img, 40, 20, red));   // right edge
  CHECK(is(img, 25, 20, {0, 0, 0}));  // inside stays untouched
  CHECK(is(img, 5, 5, {0, 0, 0}));    // outside too

  Image clipped = black(32, 32);
  const std::vector<Mark> outside{parse_mark("rect:-50,-50,100,100:blue:4"), parse_mark("arrow:-10,16,200,16"),
                                  parse_mark("ellipse:-20,-20,60,60:green")};
  draw_marks(clipped, outside);  // must not write out of bounds (ASan/valgrind would tell)
  CHECK(count(clipped, red) > 20);  // the arrow's shaft crosses the whole width

  Image ellipse = black(64, 64);
  const std::vector<Mark> ring{parse_mark("ellipse:8,8,56,56:white:2")};
  draw_marks(ellipse, ring);
  CHECK(is(ellipse, 32, 32, {0, 0, 0}));  // the centre is not filled
  CHECK(count(ellipse, {255, 255, 255}) > 100);
}

TEST_CASE("the marked image can be saved and read back", "[image][marks]") {
  Image img = black(20, 20);
  const std::vector<Mark> marks{parse_mark("rect:2,2,17,17:yellow:1")};
  draw_marks(img, marks);
  const auto dir = test::temp_dir("marks");
  save_image(img, dir / "marked.png");
  const Image back = load_image(dir / "marked.png");
  REQUIRE(back.width == 20);
  CHECK(back.rgb == img.rgb);
  CHECK_THROWS_WITH(save_image(img, dir / "no_such_dir" / "x.png"), Catch::Contains("x.png"));
}
