#pragma once
// The CPU implementations behind CpuBackend, one free function per op (contracts in
// vlm/backend/backend.hpp). Each validates its arguments and throws vlm::Error naming the op.
// Matmul lives in matmul_onednn.hpp because it keeps state (a primitive cache).
#include <span>

#include "vlm/backend/backend.hpp"

namespace vlm::cpu {

void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionParams& params);

void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out);
void layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, float eps, Tensor& out);

void activation(Activation kind, const Tensor& x, Tensor& out);
void gated_activation(Activation kind, const Tensor& gate, const Tensor& up, Tensor& out);
void softmax(const Tensor& x, Tensor& out);

void rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, Tensor& out);

void embedding(const Tensor& ids, const Tensor& table, Tensor& out);
void add(const Tensor& a, const Tensor& b, Tensor& out);
void mul(const Tensor& a, const Tensor& b, Tensor& out);
void scale(const Tensor& x, float s, Tensor& out);

void concat(std::span<const Tensor* const> parts, int axis, Tensor& out);
void slice(const Tensor& x, int axis, int64_t start, Tensor& out);
void permute(const Tensor& x, std::span<const int> perm, Tensor& out);
void patchify(const Tensor& img, int patch, Tensor& out);

void convert(const Tensor& x, Tensor& out);

}  // namespace vlm::cpu
