#include "vlm/model/family.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

SynthRecipe ModelFamily::synth_recipe(std::string_view size) const {
  fail("this family cannot write synthetic checkpoints (asked for size '{}')", size);
}

}  // namespace vlm
