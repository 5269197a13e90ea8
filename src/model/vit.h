#pragma once
// Shared ViT building blocks for the encoder families (siglip.cpp, clip.cpp, dinov2.cpp).
// Activations are row-major [tokens × hidden]; a batch of n images of T tokens is n·T rows.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/onednn_attention.h"
#include "kernels/onednn_linear.h"
#include "model/activation_dump.h"
#include "model/checkpoint.h"
#include "model/vision_config.h"

namespace deft::model {

// y = x·Wᵀ + b, W stored [out × in].
struct Linear {
  std::vector<float> weight;
  std::vector<float> bias;  // empty: no bias
  int in = 0;
  int out = 0;
  void apply(const float* x, size_t rows, float* y) const;
};

struct Norm {
  std::vector<float> weight;
  std::vector<float> bias;
  float eps = 1e-6F;
  void apply(const float* x, size_t rows, float* y) const;
};

// Which kernels run the encoder: the naive reference (tests, debugging) or oneDNN in fp32 or
// bf16 (LayerNorm, softmax and the residual stream stay fp32 either way).
struct ComputeOptions {
  bool reference = false;
  kernels::Precision precision = kernels::Precision::kF32;
};

// A Linear from float rows to float rows on the chosen kernels (bf16 conversion inside).
class DenseLayer {
 public:
  DenseLayer() = default;
  DenseLayer(Linear weights, const ComputeOptions& options);
  int out() const { return out_; }
  void apply(const float* x, size_t rows, float* y) const;

 private:
  Linear reference_;  // used when the options ask for the reference kernels
  std::shared_ptr<const kernels::OnednnLinear> fast_;
  kernels::Precision precision_ = kernels::Precision::kF32;
  int out_ = 0;
};

// One pre-LN transformer block: h += s1 ⊙ o(MHA(ln1(h))); h += s2 ⊙ fc2(act(fc1(ln2(h)))).
// s1/s2 (DINOv2's layer scale) are empty when the model has none. With a SwiGLU feed-forward
// fc1 is weights_in (2 × intermediate outputs) and act(·) is the gate silu(x1) ⊙ x2.
struct Block {
  Norm ln1;
  Linear q, k, v, o;
  Norm ln2;
  Linear fc1, fc2;
  std::vector<float> scale1, scale2;
  bool causal = false;  // attention to earlier tokens only (CLIP's text tower)
};

// A Block prepared for oneDNN: q, k and v fused into one projection, attention in place over
// its rows, the output and fc2 projections accumulating into the fp32 residual stream (with
// the layer scale fused), the activation fused into fc1.
struct FastBlock {
  FastBlock(const Block& block, const VisionConfig& config, kernels::Precision precision);
  kernels::Precision precision;
  Norm ln1, ln2;
  kernels::OnednnLinear qkv;
  kernels::OnednnAttention attention;
  kernels::OnednnLinear o;
  kernels::OnednnLinear fc1;  // SwiGLU: weights_in, fp32 out, gated by kernels::swiglu
  kernels::OnednnLinear fc2;
};

// Tensor names of one block, as `{}`-templates over the layer index.
struct BlockNames {
  const char *ln1, *q, *k, *v, *o, *ln2, *fc1, *fc2, *scale1, *scale2;  // scale*: "" when absent
};

// CLIP and SigLIP name their blocks alike (prefix vision_model.).
extern const BlockNames kClipStyleBlockNames;
// The feed-forward weights' shape: [intermediate, hidden] in, or SwiGLU's [2·intermediate, ·].
int feed_forward_inputs(const VisionConfig& config);

// Reads tensors by name from a checkpoint as float32, checking each shape; every failure is an
// Error(kInput) naming the tensor, the shape found and the shape expected.
class WeightReader {
 public:
  WeightReader(const Checkpoint& checkpoint, std::string prefix)
      : checkpoint_(checkpoint), prefix_(std::move(prefix)) {}
  bool has(const std::string& name) const;
  std::vector<float> tensor(const std::string& name, const std::vector<int64_t>& shape) const;
  Linear linear(const std::string& name, int in, int out, bool bias = true) const;
  Norm norm(const std::string& name, int d, float eps) const;
  // A Conv2d patch embedding [hidden, 3, p, p] (+ bias) as a Linear over flattened patches.
  Linear patch_embedding(const std::string& name, const VisionConfig& config, bool bias) const;
  Block block(const BlockNames& names, int layer, const VisionConfig& config) const;

 private:
  const Checkpoint& checkpoint_;
  std::string prefix_;
};

// The ViT trunk every family shares.
struct VitTrunk {
  VisionConfig config;
  ComputeOptions options;
  ActivationDump dump;                 // off unless asked for
  DenseLayer patch;                    // [hidden × 3·p·p]: the conv kernel flattened (c, ky, kx)
  std::vector<float> cls;              // class token [hidden]; empty when the model has none
  std::vector<float> registers;        // DINOv2's register tokens [R × hidden], after the class
  std::vector<float> position;         // class + patch rows × hidden for the input grid
  std::vector<Block> blocks;           // reference kernels
  std::vector<FastBlock> fast_blocks;  // oneDNN kernels
  int input_h = 0;  // the model input, in pixels (leftover pixels past the grid are dropped)
  int input_w = 0;
  int grid_h = 0;  // patches per column / row of the model input
  int grid_w = 0;

  size_t register_count() const { return registers.size() / config.hidden_size; }
  size_t tokens() const {
    return static_cast<size_t>(grid_h) * grid_w + (cls.empty() ? 0 : 1) + register_count();
  }
  // pixels: n × 3 × H × W → hidden: n·tokens() × hidden_size: [class, registers, patches], the
  // class and patch rows with their positions added (registers have none).
  void embed(const float* pixels, size_t n, float* hidden) const;
  // Which rows of the last block's output the family reads.
  enum class Output { kAllTokens, kClassToken };
  // Runs every block over hidden (n sequences of tokens()). With Output::kClassToken only the
  // class rows are right after the last block: its attention still reads every token, but the
  // output projection and the MLP run on the class rows alone (exact, and a twelfth of a
  // ViT-B's layers spared), unless an activation dump asks for every row.
  void run_blocks(float* hidden, size_t n, Output output = Output::kAllTokens) const;
  // The shared opening of every family's forward pass: embed, `pre` (CLIP's pre-LayerNorm)
  // when given, then the blocks. Returns hidden: n·tokens() × hidden_size.
  std::vector<float> forward(const float* pixels, size_t n, Output output,
                             const Norm* pre = nullptr) const;
  // A family's head writes its named intermediates ("head.k", …) when the dump asks for them.
  void tap(std::string_view name, const float* data, size_t rows, size_t cols) const {
    if (dump.intermediates()) dump.write(name, data, rows, cols);
  }
  // `norm` of each sequence's class row (row 0, the one Output::kClassToken keeps right):
  // hidden n·tokens() × hidden_size → out n × hidden_size.
  void normalize_class_rows(const Norm& norm, const float* hidden, size_t n, float* out) const;
  // Adds the blocks (as reference Blocks, or prepared for oneDNN) per `options`.
  void add_block(const Block& block);
  // What actually runs the blocks: "reference", "onednn-fp32" or "onednn-bf16".
  const char* kernel_name() const;
  // LayerNorm on the options' kernels (x may equal y).
  void normalize(const Norm& norm, const float* x, size_t rows, float* y) const;
};

// A trunk for `config` on `options`, sized for the processor's input (checking that the input
// holds at least one patch); weights are filled in by the family.
VitTrunk make_trunk(const ModelConfig& config, const ComputeOptions& options,
                    ActivationDump dump = {});

// Where a family keeps its trunk's weights: the names differ, the loading does not.
struct TrunkWeightNames {
  const char* patch;  // the patch embedding Conv2d
  bool patch_bias;
  const char* class_token = nullptr;  // none: the model has no class token (SigLIP)
  const char* registers = nullptr;    // DINOv2 with registers
  const char* positions;
  bool batch_dim = false;  // class token and positions stored as [1, rows, hidden] (DINOv2)
  BlockNames blocks;
};

// make_trunk, then the patch embedding, class token, registers, positions (resized to the
// input grid as the family does) and every block, read through `w`.
VitTrunk load_trunk(const WeightReader& w, const ModelConfig& config, const ComputeOptions& options,
                    ActivationDump dump, const TrunkWeightNames& names);

// Position embeddings for a grid_h × grid_w input from a square table of `grid` × `grid` rows
// (plus a leading class row when `has_class_row`), computed in double. kBicubic is
// F.interpolate(mode="bicubic", align_corners=False): a = −0.75, 4 taps, clamped edges.
// kBicubicAntialias is the same call with antialias=True: a = −0.5 and, when shrinking, the
// support widened by the scale (Pillow's formulation), taps normalised to sum 1. Returns the
// table unchanged when the grid already matches.
std::vector<float> interpolate_positions(const std::vector<float>& table, int grid, int dim,
                                         bool has_class_row, int grid_h, int grid_w,
                                         PositionResize resize = PositionResize::kBicubic);

// Where a block writes its named intermediates ("block.<i>.q", …) when the dump asks for them.
struct BlockTap {
  const ActivationDump* dump = nullptr;
  size_t block = 0;
  bool on() const { return dump != nullptr && dump->intermediates(); }
  // `rows` rows of `cols` values, `stride` apart, float or bf16.
  void operator()(const char* what, const void* data, bool bf16, size_t rows, size_t cols,
                  size_t stride) const;
};

// One block over n sequences of `tokens` rows, on the reference or the oneDNN kernels.
void run_block(const Block& block, const VisionConfig& config, float* hidden, size_t n,
               size_t tokens, const BlockTap& tap = {});
// Scratch buffers of the oneDNN block, reused across the blocks of one encode() call.
struct BlockWorkspace {
  std::vector<std::byte> x, qkv, attended, mid;
  std::vector<float> finished_rows;
  std::vector<float> wide;  // SwiGLU: weights_in's output, gated into mid
};
// finish_rows: empty, or one row index per sequence: only that row of each sequence is
// finished (output projection, MLP) after attention over every row; the others are left as
// they were. Exact for the rows a pooling reads, and most of a layer's work spared.
void run_block(const FastBlock& block, const VisionConfig& config, float* hidden, size_t n,
               size_t tokens, BlockWorkspace& work, std::span<const size_t> finish_rows = {},
               const BlockTap& tap = {});

void activate(Activation act, float* x, size_t count);

}  // namespace deft::model
