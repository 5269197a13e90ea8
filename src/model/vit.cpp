#include "model/vit.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "kernels/cpu_ops.h"
#include "kernels/reference.h"
#include "preprocess/pillow_resize.h"

namespace deft::model {

void Linear::apply(const float* x, size_t rows, float* y) const {
  kernels::reference::linear(x, rows, in, weight.data(), bias.empty() ? nullptr : bias.data(), out,
                             y);
}

void Norm::apply(const float* x, size_t rows, float* y) const {
  kernels::reference::layer_norm(x, rows, weight.size(), weight.data(), bias.data(), eps, y);
}

namespace {

kernels::Epilogue epilogue_of(Activation act) {
  switch (act) {
    case Activation::kGeluTanh:
      return kernels::Epilogue::kGeluTanh;
    case Activation::kQuickGelu:
      return kernels::Epilogue::kQuickGelu;
    case Activation::kGeluErf:
      return kernels::Epilogue::kGeluErf;
  }
  return kernels::Epilogue::kNone;
}

}  // namespace

DenseLayer::DenseLayer(Linear weights, const ComputeOptions& options)
    : precision_(options.precision), out_(weights.out) {
  if (options.reference) {
    reference_ = std::move(weights);
  } else {
    fast_ = std::make_shared<const kernels::OnednnLinear>(weights.weight, weights.bias, weights.in,
                                                          weights.out, options.precision);
  }
}

void DenseLayer::apply(const float* x, size_t rows, float* y) const {
  if (!fast_) {
    reference_.apply(x, rows, y);
  } else if (precision_ == kernels::Precision::kF32) {
    fast_->apply(x, rows, y);
  } else {
    std::vector<uint16_t> x16(rows * static_cast<size_t>(fast_->in()));
    kernels::to_bf16(x, x16.size(), x16.data());
    fast_->apply(x16.data(), rows, y);
  }
}

FastBlock::FastBlock(const Block& b, const VisionConfig& c, kernels::Precision p)
    : precision(p),
      ln1(b.ln1),
      ln2(b.ln2),
      qkv([&] {
        std::vector<float> w = b.q.weight;
        w.insert(w.end(), b.k.weight.begin(), b.k.weight.end());
        w.insert(w.end(), b.v.weight.begin(), b.v.weight.end());
        std::vector<float> bias = b.q.bias;
        bias.insert(bias.end(), b.k.bias.begin(), b.k.bias.end());
        bias.insert(bias.end(), b.v.bias.begin(), b.v.bias.end());
        return kernels::OnednnLinear(w, bias, c.hidden_size, 3 * c.hidden_size, p, {.output = p});
      }()),
      attention(p, c.num_attention_heads, c.hidden_size, b.causal),
      o(b.o.weight, b.o.bias, c.hidden_size, c.hidden_size, p,
        {.channel_scale = b.scale1, .accumulate = true}),
      fc1(b.fc1.weight, b.fc1.bias, c.hidden_size, feed_forward_inputs(c), p,
          c.feed_forward == FeedForward::kSwiGlu
              ? kernels::LinearOutput{}
              : kernels::LinearOutput{.activation = epilogue_of(c.hidden_act), .output = p}),
      fc2(b.fc2.weight, b.fc2.bias, c.intermediate_size, c.hidden_size, p,
          {.channel_scale = b.scale2, .accumulate = true}) {}

void activate(Activation act, float* x, size_t count) {
  switch (act) {
    case Activation::kGeluTanh:
      kernels::reference::gelu_tanh(x, count);
      return;
    case Activation::kQuickGelu:
      kernels::reference::quick_gelu(x, count);
      return;
    case Activation::kGeluErf:
      kernels::reference::gelu_erf(x, count);
      return;
  }
}

int feed_forward_inputs(const VisionConfig& c) {
  return c.feed_forward == FeedForward::kSwiGlu ? 2 * c.intermediate_size : c.intermediate_size;
}

const BlockNames kClipStyleBlockNames = {"encoder.layers.{}.layer_norm1",
                                         "encoder.layers.{}.self_attn.q_proj",
                                         "encoder.layers.{}.self_attn.k_proj",
                                         "encoder.layers.{}.self_attn.v_proj",
                                         "encoder.layers.{}.self_attn.out_proj",
                                         "encoder.layers.{}.layer_norm2",
                                         "encoder.layers.{}.mlp.fc1",
                                         "encoder.layers.{}.mlp.fc2",
                                         "",
                                         ""};

bool WeightReader::has(const std::string& name) const {
  return checkpoint_.find(prefix_ + name) != nullptr;
}

std::vector<float> WeightReader::tensor(const std::string& name,
                                        const std::vector<int64_t>& shape) const {
  const Tensor& t = checkpoint_.tensor(prefix_ + name);
  // Shapes match when equal, or equal after dropping leading 1s ([1, 1, D] probe vs [D]).
  auto squeezed = [](std::vector<int64_t> s) {
    while (s.size() > 1 && s.front() == 1)
      s.erase(s.begin());
    return s;
  };
  if (squeezed(t.shape) != squeezed(shape)) {
    throw Error(
        ErrorKind::kInput,
        fmt::format("tensor '{}' in '{}' has shape [{}], the config implies [{}]", t.name,
                    t.file.string(), fmt::join(t.shape, ", "), fmt::join(shape, ", ")),
        "config.json and the weights disagree: is this the right config for the checkpoint?");
  }
  return to_f32(t);
}

Linear WeightReader::linear(const std::string& name, int in, int out, bool bias) const {
  Linear l;
  l.in = in;
  l.out = out;
  l.weight = tensor(name + ".weight", {out, in});
  if (bias) l.bias = tensor(name + ".bias", {out});
  return l;
}

Norm WeightReader::norm(const std::string& name, int d, float eps) const {
  return {tensor(name + ".weight", {d}), tensor(name + ".bias", {d}), eps};
}

Linear WeightReader::patch_embedding(const std::string& name, const VisionConfig& c,
                                     bool bias) const {
  const int d = c.hidden_size;
  const int p = c.patch_size;
  Linear l;
  l.in = 3 * p * p;
  l.out = d;
  l.weight = tensor(name + ".weight", {d, 3, p, p});
  if (bias) l.bias = tensor(name + ".bias", {d});
  return l;
}

Block WeightReader::block(const BlockNames& names, int layer, const VisionConfig& c) const {
  const auto at = [&](const char* pattern) { return fmt::format(fmt::runtime(pattern), layer); };
  const int d = c.hidden_size;
  const int m = c.intermediate_size;
  Block b;
  b.ln1 = norm(at(names.ln1), d, c.layer_norm_eps);
  b.q = linear(at(names.q), d, d, c.qkv_bias);
  b.k = linear(at(names.k), d, d, c.qkv_bias);
  b.v = linear(at(names.v), d, d, c.qkv_bias);
  b.o = linear(at(names.o), d, d);
  b.ln2 = norm(at(names.ln2), d, c.layer_norm_eps);
  b.fc1 = linear(at(names.fc1), d, feed_forward_inputs(c));
  b.fc2 = linear(at(names.fc2), m, d);
  if (*names.scale1 != '\0') b.scale1 = tensor(at(names.scale1), {d});
  if (*names.scale2 != '\0') b.scale2 = tensor(at(names.scale2), {d});
  return b;
}

void BlockTap::operator()(const char* what, const void* data, bool bf16, size_t rows, size_t cols,
                          size_t stride) const {
  if (on())
    dump->write_strided(fmt::format("block.{}.{}", block, what), data, bf16, rows, cols, stride);
}

void run_block(const Block& b, const VisionConfig& c, float* hidden, size_t n, size_t tokens,
               const BlockTap& tap) {
  const size_t d = static_cast<size_t>(c.hidden_size);
  const size_t m = static_cast<size_t>(c.intermediate_size);
  const size_t rows = n * tokens;
  std::vector<float> x(rows * d), q(rows * d), k(rows * d), v(rows * d), a(rows * d), o(rows * d);
  b.ln1.apply(hidden, rows, x.data());
  tap("ln1", x.data(), false, rows, d, d);
  b.q.apply(x.data(), rows, q.data());
  b.k.apply(x.data(), rows, k.data());
  b.v.apply(x.data(), rows, v.data());
  tap("q", q.data(), false, rows, d, d);
  tap("k", k.data(), false, rows, d, d);
  tap("v", v.data(), false, rows, d, d);
  for (size_t i = 0; i < n; ++i) {
    const size_t offset = i * tokens * d;
    kernels::reference::attention(q.data() + offset, tokens, k.data() + offset, v.data() + offset,
                                  tokens, d, static_cast<size_t>(c.num_attention_heads),
                                  a.data() + offset, b.causal);
  }
  tap("attention", a.data(), false, rows, d, d);
  b.o.apply(a.data(), rows, o.data());
  const auto add = [&](const std::vector<float>& update, const std::vector<float>& scale) {
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < d; ++j) {
        hidden[r * d + j] += scale.empty() ? update[r * d + j] : scale[j] * update[r * d + j];
      }
    }
  };
  add(o, b.scale1);
  tap("attn_residual", hidden, false, rows, d, d);
  b.ln2.apply(hidden, rows, x.data());
  tap("ln2", x.data(), false, rows, d, d);
  std::vector<float> mid(rows * static_cast<size_t>(feed_forward_inputs(c)));
  b.fc1.apply(x.data(), rows, mid.data());
  if (c.feed_forward == FeedForward::kSwiGlu) {
    std::vector<float> gated(rows * m);
    kernels::reference::swiglu(mid.data(), rows, m, gated.data());
    mid = std::move(gated);
  } else {
    activate(c.hidden_act, mid.data(), mid.size());
  }
  tap("mlp_hidden", mid.data(), false, rows, m, m);
  b.fc2.apply(mid.data(), rows, o.data());
  add(o, b.scale2);
}

void run_block(const FastBlock& b, const VisionConfig& c, float* hidden, size_t n, size_t tokens,
               BlockWorkspace& work, std::span<const size_t> finish_rows, const BlockTap& tap) {
  const size_t d = static_cast<size_t>(c.hidden_size);
  const size_t m = static_cast<size_t>(c.intermediate_size);
  const size_t rows = n * tokens;
  const bool bf16 = b.precision == kernels::Precision::kBF16;
  const size_t e = kernels::element_size(b.precision);
  // Sized once per encode() and reused by every block: no allocation, no page faults per layer.
  work.x.resize(rows * d * e);
  work.qkv.resize(rows * 3 * d * e);
  work.attended.resize(rows * d * e);
  work.mid.resize(rows * m * e);
  const bool swiglu = c.feed_forward == FeedForward::kSwiGlu;
  if (swiglu) work.wide.resize(rows * 2 * m);
  std::byte* x = work.x.data();
  std::byte* qkv = work.qkv.data();
  const auto normalize = [&](const Norm& norm, const float* from, size_t count) {
    kernels::layer_norm(from, count, d, norm.weight.data(), norm.bias.data(), norm.eps,
                        bf16 ? nullptr : reinterpret_cast<float*>(x),
                        bf16 ? reinterpret_cast<uint16_t*>(x) : nullptr);
  };
  normalize(b.ln1, hidden, rows);
  tap("ln1", x, bf16, rows, d, d);
  b.qkv.apply(x, rows, qkv);
  tap("q", qkv, bf16, rows, d, 3 * d);
  tap("k", qkv + d * e, bf16, rows, d, 3 * d);
  tap("v", qkv + 2 * d * e, bf16, rows, d, 3 * d);
  b.attention.apply(qkv, qkv + d * e, qkv + 2 * d * e, 3 * d, n, tokens, work.attended.data());
  tap("attention", work.attended.data(), bf16, rows, d, d);
  // mid = act(fc1(x)) over `count` rows (the activation fused into fc1, or the SwiGLU gate).
  const auto feed_forward_in = [&](size_t count) {
    if (!swiglu) {
      b.fc1.apply(x, count, work.mid.data());
      return;
    }
    b.fc1.apply(x, count, work.wide.data());
    kernels::swiglu(work.wide.data(), count, m,
                    bf16 ? nullptr : reinterpret_cast<float*>(work.mid.data()),
                    bf16 ? reinterpret_cast<uint16_t*>(work.mid.data()) : nullptr);
  };
  if (finish_rows.empty()) {
    b.o.apply(work.attended.data(), rows, hidden);  // hidden += s1 ⊙ o(attended)
    tap("attn_residual", hidden, false, rows, d, d);
    normalize(b.ln2, hidden, rows);
    tap("ln2", x, bf16, rows, d, d);
    feed_forward_in(rows);
    tap("mlp_hidden", work.mid.data(), bf16, rows, m, m);
    b.fc2.apply(work.mid.data(), rows, hidden);  // hidden += s2 ⊙ fc2(act(fc1(x)))
    return;
  }
  // The same steps on one row per sequence, packed: row i of `packed` is sequence i's row
  // finish_rows[i]. Moving attended rows down in place is safe: i·d ≤ (i·tokens + r)·d.
  DEFT_ASSERT(finish_rows.size() == n, "one finished row per sequence");
  std::byte* attended = work.attended.data();
  const auto at = [&](size_t i) {
    DEFT_ASSERT(finish_rows[i] < tokens, "a finished row inside its sequence");
    return i * tokens + finish_rows[i];
  };
  for (size_t i = 0; i < n; ++i)
    std::memmove(attended + i * d * e, attended + at(i) * d * e, d * e);
  work.finished_rows.resize(n * d);
  float* packed = work.finished_rows.data();
  for (size_t i = 0; i < n; ++i)
    std::copy_n(hidden + at(i) * d, d, packed + i * d);
  b.o.apply(attended, n, packed);
  normalize(b.ln2, packed, n);
  feed_forward_in(n);
  b.fc2.apply(work.mid.data(), n, packed);
  for (size_t i = 0; i < n; ++i)
    std::copy_n(packed + i * d, d, hidden + at(i) * d);
}

void VitTrunk::embed(const float* pixels, size_t n, float* hidden) const {
  const int p = config.patch_size;
  const int h = input_h;
  const int w = input_w;
  const size_t d = static_cast<size_t>(config.hidden_size);
  const size_t patches = static_cast<size_t>(grid_h) * grid_w;
  const size_t patch_values = static_cast<size_t>(3) * p * p;
  const size_t first = cls.empty() ? 0 : 1;
  std::vector<float> gathered(patches * patch_values);
  std::vector<float> projected(patches * d);
  for (size_t i = 0; i < n; ++i) {
    const float* image = pixels + i * 3 * static_cast<size_t>(h) * w;
    // Each patch flattened in (channel, ky, kx) order = the conv kernel's layout.
    for (int gy = 0; gy < grid_h; ++gy) {
      for (int gx = 0; gx < grid_w; ++gx) {
        float* out = &gathered[(static_cast<size_t>(gy) * grid_w + gx) * patch_values];
        for (int c = 0; c < 3; ++c) {
          for (int ky = 0; ky < p; ++ky) {
            const float* src = image +
                               (static_cast<size_t>(c) * h + static_cast<size_t>(gy) * p + ky) * w +
                               static_cast<size_t>(gx) * p;
            std::copy(src, src + p, out + (static_cast<size_t>(c) * p + ky) * p);
          }
        }
      }
    }
    patch.apply(gathered.data(), patches, projected.data());
    float* seq = hidden + i * tokens() * d;
    for (size_t j = 0; j < first * d; ++j)
      seq[j] = cls[j] + position[j];
    std::copy(registers.begin(), registers.end(), seq + first * d);
    float* patch_rows = seq + (first + register_count()) * d;
    const float* patch_positions = position.data() + first * d;
    for (size_t j = 0; j < patches * d; ++j)
      patch_rows[j] = projected[j] + patch_positions[j];
  }
}

VitTrunk make_trunk(const ModelConfig& config, const ComputeOptions& options, ActivationDump dump) {
  VitTrunk trunk;
  trunk.config = config.vision;
  trunk.options = options;
  trunk.dump = std::move(dump);
  const int p = config.vision.patch_size;
  const int input_h = config.processor.input_height();
  const int input_w = config.processor.input_width();
  if (input_h < p || input_w < p) {
    throw Error(
        ErrorKind::kInput,
        fmt::format("model input {}×{} is smaller than one {}-pixel patch", input_w, input_h, p));
  }
  trunk.input_h = input_h;
  trunk.input_w = input_w;
  trunk.grid_h = input_h / p;
  trunk.grid_w = input_w / p;
  return trunk;
}

void VitTrunk::run_blocks(float* hidden, size_t n, Output output) const {
  const size_t rows = n * tokens();
  const auto cols = static_cast<size_t>(config.hidden_size);
  dump.write("embeddings", hidden, rows, cols);
  for (size_t i = 0; i < blocks.size(); ++i) {
    run_block(blocks[i], config, hidden, n, tokens(), {&dump, i});
    if (dump.enabled()) dump.write(fmt::format("block.{}", i), hidden, rows, cols);
  }
  BlockWorkspace work;
  const bool prune_last = output == Output::kClassToken && !dump.enabled();
  const std::vector<size_t> class_rows(prune_last ? n : 0, 0);
  for (size_t i = 0; i < fast_blocks.size(); ++i) {
    const bool last = i + 1 == fast_blocks.size();
    run_block(fast_blocks[i], config, hidden, n, tokens(), work,
              last ? std::span<const size_t>(class_rows) : std::span<const size_t>(), {&dump, i});
    if (dump.enabled()) dump.write(fmt::format("block.{}", i), hidden, rows, cols);
  }
}

std::vector<float> VitTrunk::forward(const float* pixels, size_t n, Output output,
                                     const Norm* pre) const {
  std::vector<float> hidden(n * tokens() * static_cast<size_t>(config.hidden_size));
  embed(pixels, n, hidden.data());
  if (pre != nullptr) normalize(*pre, hidden.data(), n * tokens(), hidden.data());
  run_blocks(hidden.data(), n, output);
  return hidden;
}

void VitTrunk::normalize_class_rows(const Norm& norm, const float* hidden, size_t n,
                                    float* out) const {
  const auto d = static_cast<size_t>(config.hidden_size);
  for (size_t i = 0; i < n; ++i)
    norm.apply(hidden + i * tokens() * d, 1, out + i * d);
}

const char* VitTrunk::kernel_name() const {
  if (fast_blocks.empty()) return "reference";
  return fast_blocks.front().precision == kernels::Precision::kBF16 ? "onednn-bf16" : "onednn-fp32";
}

VitTrunk load_trunk(const WeightReader& w, const ModelConfig& config, const ComputeOptions& options,
                    ActivationDump dump, const TrunkWeightNames& names) {
  const VisionConfig& c = config.vision;
  const int d = c.hidden_size;
  const int grid = c.image_size / c.patch_size;
  const bool has_class = names.class_token != nullptr;
  const auto shape = [&](std::vector<int64_t> dims) {
    if (names.batch_dim) dims.insert(dims.begin(), 1);
    return dims;
  };
  VitTrunk trunk = make_trunk(config, options, std::move(dump));
  trunk.patch = DenseLayer(w.patch_embedding(names.patch, c, names.patch_bias), options);
  // The class token: [hidden], or [1, 1, hidden] with a batch dimension.
  if (has_class) {
    trunk.cls = w.tensor(names.class_token,
                         names.batch_dim ? std::vector<int64_t>{1, 1, d} : std::vector<int64_t>{d});
  }
  if (names.registers != nullptr && c.register_tokens > 0)
    trunk.registers = w.tensor(names.registers, shape({c.register_tokens, d}));
  const int64_t rows = static_cast<int64_t>(grid) * grid + (has_class ? 1 : 0);
  trunk.position = interpolate_positions(w.tensor(names.positions, shape({rows, d})), grid, d,
                                         has_class, trunk.grid_h, trunk.grid_w, c.position_resize);
  for (int i = 0; i < c.num_hidden_layers; ++i)
    trunk.add_block(w.block(names.blocks, i, c));
  return trunk;
}

void VitTrunk::add_block(const Block& block) {
  if (options.reference) {
    blocks.push_back(block);
  } else {
    fast_blocks.emplace_back(block, config, options.precision);
  }
}

void VitTrunk::normalize(const Norm& norm, const float* x, size_t rows, float* y) const {
  if (options.reference) {
    norm.apply(x, rows, y);
  } else {
    kernels::layer_norm(x, rows, norm.weight.size(), norm.weight.data(), norm.bias.data(), norm.eps,
                        y, nullptr);
  }
}

namespace {

// PyTorch's cubic convolution coefficients (upsample_bicubic2d, A = −0.75) for offset t.
void cubic_coefficients(double t, double c[4]) {
  constexpr double a = -0.75;
  const auto near = [&](double x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
  const auto far = [&](double x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
  c[0] = far(t + 1.0);
  c[1] = near(t);
  c[2] = near(1.0 - t);
  c[3] = far(2.0 - t);
}

// F.interpolate's bicubic taps (align_corners=False): 4 taps around scale·(o + 0.5) − 0.5,
// a = −0.75, indices clamped to the edge (the clamped taps keep their weights). The antialiased
// variant's taps are Pillow's BICUBIC ones (preprocess::resample_taps).
preprocess::ResampleTaps bicubic_taps(int in, int out) {
  preprocess::ResampleTaps taps;
  taps.kernel_size = 4;
  const double scale = static_cast<double>(in) / out;
  for (int o = 0; o < out; ++o) {
    const double source = scale * (o + 0.5) - 0.5;
    const int i = static_cast<int>(std::floor(source));
    double c[4];
    cubic_coefficients(source - i, c);
    taps.first.push_back(i - 1);
    taps.count.push_back(4);
    taps.weights.insert(taps.weights.end(), c, c + 4);
  }
  return taps;
}

}  // namespace

std::vector<float> interpolate_positions(const std::vector<float>& table, int grid, int dim,
                                         bool has_class_row, int grid_h, int grid_w,
                                         PositionResize resize) {
  if (grid_h == grid && grid_w == grid) return table;
  const size_t first = has_class_row ? 1 : 0;
  const float* src = table.data() + first * dim;
  std::vector<float> out((first + static_cast<size_t>(grid_h) * grid_w) * dim);
  std::copy(table.begin(), table.begin() + static_cast<std::ptrdiff_t>(first * dim), out.begin());
  const auto taps = [&](int size) {
    return resize == PositionResize::kBicubicAntialias
               ? preprocess::resample_taps(grid, size, preprocess::Resample::kBicubic)
               : bicubic_taps(grid, size);
  };
  const preprocess::ResampleTaps ty = taps(grid_h);
  const preprocess::ResampleTaps tx = taps(grid_w);
  const auto at = [&](int y, int x, int c) {
    y = std::clamp(y, 0, grid - 1);
    x = std::clamp(x, 0, grid - 1);
    return static_cast<double>(src[(static_cast<size_t>(y) * grid + x) * dim + c]);
  };
  for (int oy = 0; oy < grid_h; ++oy) {
    for (int ox = 0; ox < grid_w; ++ox) {
      float* dst = out.data() + (first + static_cast<size_t>(oy) * grid_w + ox) * dim;
      for (int c = 0; c < dim; ++c) {
        double value = 0.0;
        for (int j = 0; j < ty.count[oy]; ++j) {
          double row = 0.0;
          for (int i = 0; i < tx.count[ox]; ++i) {
            row += tx.weights[static_cast<size_t>(ox) * tx.kernel_size + i] *
                   at(ty.first[oy] + j, tx.first[ox] + i, c);
          }
          value += ty.weights[static_cast<size_t>(oy) * ty.kernel_size + j] * row;
        }
        dst[c] = static_cast<float>(value);
      }
    }
  }
  return out;
}

}  // namespace deft::model
