#pragma once
// Everything a model-family plugin needs.
#include "vlm/backend/backend.hpp"
#include "vlm/image/image.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/io/config.hpp"
#include "vlm/model/components.hpp"
#include "vlm/model/family.hpp"
#include "vlm/model/plugin.hpp"
#include "vlm/model/tensor_spec.hpp"
#include "vlm/tensor/tensor.hpp"
#include "vlm/util/error.hpp"
#include "vlm/version.hpp"
