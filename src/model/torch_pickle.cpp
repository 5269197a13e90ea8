#include "model/torch_pickle.h"

#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "common/error.h"

namespace deft::model {
namespace {

enum class Kind {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kTuple,
  kList,
  kDict,
  kGlobal,
  kStorage,
  kTensor
};

struct Value;
// Values are owned by the Unpickler's arena and point at each other: a pickle can set a dict
// into itself (SETITEM with its own memo entry), and with owning pointers that cycle would leak
// (and a deep chain would be freed by recursion).
using ValuePtr = Value*;

struct Value {
  Kind kind = Kind::kNone;
  int64_t number = 0;
  std::string text;  // string value, or "module.name" of a global
  std::vector<ValuePtr> items;
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;
  PickledTensor tensor;  // kStorage: storage_key, dtype, storage_numel; kTensor: all
};

// What each allowed global may do: storage types only appear inside persistent ids.
enum class Allowed { kOrderedDict, kRebuildTensor, kRebuildParameter, kStorageType };

struct StorageType {
  const char* name;
  DType dtype;
};
constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", DType::kF32},     {"torch.HalfStorage", DType::kF16},
    {"torch.BFloat16Storage", DType::kBF16}, {"torch.DoubleStorage", DType::kF64},
    {"torch.LongStorage", DType::kI64},      {"torch.IntStorage", DType::kI32},
    {"torch.ShortStorage", DType::kI16},     {"torch.CharStorage", DType::kI8},
    {"torch.ByteStorage", DType::kU8},       {"torch.BoolStorage", DType::kBool},
};

std::optional<Allowed> allowed(const std::string& global) {
  if (global == "collections.OrderedDict") return Allowed::kOrderedDict;
  if (global == "torch._utils._rebuild_tensor_v2") return Allowed::kRebuildTensor;
  if (global == "torch._utils._rebuild_parameter") return Allowed::kRebuildParameter;
  for (const StorageType& s : kStorageTypes) {
    if (global == s.name) return Allowed::kStorageType;
  }
  return std::nullopt;
}

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> bytes, const std::filesystem::path& path)
      : bytes_(bytes), path_(path) {}

  ValuePtr run();

 private:
  ValuePtr make(Kind kind) {
    arena_.push_back(std::make_unique<Value>());
    arena_.back()->kind = kind;
    return arena_.back().get();
  }
  [[noreturn]] void refuse(const std::string& problem) const {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}': {} (at byte {} of data.pkl; nothing was executed)",
                            path_.string(), problem, at_),
                "deft reads only plain state dicts of tensors; convert the checkpoint to "
                "safetensors if it is something else");
  }
  const std::byte* take(size_t n) {
    if (bytes_.size() - at_ < n) refuse("the pickle ends in the middle of an instruction");
    const std::byte* p = bytes_.data() + at_;
    at_ += n;
    return p;
  }
  uint64_t le(size_t n) {
    const std::byte* p = take(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
      v = (v << 8) | static_cast<uint8_t>(p[i]);
    return v;
  }
  std::string line() {
    std::string out;
    for (;;) {
      const char c = static_cast<char>(*take(1));
      if (c == '\n') return out;
      out += c;
      if (out.size() > 256) refuse("a global's name is too long");
    }
  }
  std::string text(size_t n) {
    const std::byte* p = take(n);
    return {reinterpret_cast<const char*>(p), n};
  }
  ValuePtr pop() {
    if (stack_.size() <= floor()) refuse("stack underflow");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<ValuePtr> pop_to_mark() {
    if (marks_.empty()) refuse("no MARK for an instruction that needs one");
    std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()),
                                stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  ValuePtr& top() {
    if (stack_.size() <= floor()) refuse("stack underflow");
    return stack_.back();
  }
  void push(ValuePtr v) {
    if (stack_.size() > 100000) refuse("the pickle nests too deeply");
    stack_.push_back(std::move(v));
  }
  ValuePtr integer(int64_t n) {
    auto v = make(Kind::kInt);
    v->number = n;
    return v;
  }
  ValuePtr string(std::string s) {
    auto v = make(Kind::kString);
    v->text = std::move(s);
    return v;
  }
  void global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (!allowed(full))
      refuse(fmt::format("the pickle refers to {}, which a state dict never needs", full));
    auto v = make(Kind::kGlobal);
    v->text = full;
    push(v);
  }
  void set_items(ValuePtr& dict, const std::vector<ValuePtr>& items) {
    if (dict->kind != Kind::kDict) refuse("SETITEM(S) on something that is not a dict");
    if (items.size() % 2 != 0) refuse("SETITEMS with an odd number of values");
    for (size_t i = 0; i < items.size(); i += 2)
      dict->entries.emplace_back(items[i], items[i + 1]);
  }
  ValuePtr persistent(const ValuePtr& id);
  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args);
  int64_t as_int(const ValuePtr& v, const char* what) {
    if (v->kind != Kind::kInt) refuse(fmt::format("{} is not an integer", what));
    return v->number;
  }
  std::vector<int64_t> as_ints(const ValuePtr& v, const char* what) {
    if (v->kind != Kind::kTuple) refuse(fmt::format("{} is not a tuple", what));
    std::vector<int64_t> out;
    for (const ValuePtr& i : v->items)
      out.push_back(as_int(i, what));
    return out;
  }

  std::span<const std::byte> bytes_;
  const std::filesystem::path& path_;
  size_t at_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, ValuePtr> memo_;
  std::vector<std::unique_ptr<Value>> arena_;  // every value made, freed with the Unpickler
};

ValuePtr Unpickler::persistent(const ValuePtr& id) {
  // torch.save's persistent id: ('storage', <torch.XStorage>, key, location, numel).
  if (id->kind != Kind::kTuple || id->items.size() != 5 || id->items[0]->kind != Kind::kString ||
      id->items[0]->text != "storage" || id->items[1]->kind != Kind::kGlobal ||
      id->items[2]->kind != Kind::kString) {
    refuse("a persistent id that is not a torch storage");
  }
  auto v = make(Kind::kStorage);
  for (const StorageType& s : kStorageTypes) {
    if (id->items[1]->text == s.name) v->tensor.dtype = s.dtype;
  }
  if (allowed(id->items[1]->text) != Allowed::kStorageType)
    refuse(fmt::format("persistent id names {}, not a storage type", id->items[1]->text));
  v->tensor.storage_key = id->items[2]->text;
  v->tensor.storage_numel = as_int(id->items[4], "a storage's size");
  if (v->tensor.storage_numel < 0) refuse("a storage has a negative size");
  return v;
}

ValuePtr Unpickler::reduce(const ValuePtr& callable, const ValuePtr& args) {
  if (callable->kind != Kind::kGlobal) refuse("REDUCE on something that is not a global");
  if (args->kind != Kind::kTuple) refuse("REDUCE with arguments that are not a tuple");
  const auto what = allowed(callable->text);
  const std::vector<ValuePtr>& a = args->items;
  if (what == Allowed::kOrderedDict) {
    auto dict = make(Kind::kDict);
    if (a.empty()) return dict;
    refuse("OrderedDict built from arguments");
  }
  if (what == Allowed::kRebuildTensor) {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    if (a.size() < 4 || a[0]->kind != Kind::kStorage)
      refuse("_rebuild_tensor_v2 with unexpected arguments");
    auto t = make(Kind::kTensor);
    t->tensor = a[0]->tensor;
    t->tensor.offset = as_int(a[1], "a tensor's storage offset");
    t->tensor.size = as_ints(a[2], "a tensor's size");
    t->tensor.stride = as_ints(a[3], "a tensor's stride");
    return t;
  }
  if (what == Allowed::kRebuildParameter) {
    if (a.empty() || a[0]->kind != Kind::kTensor) refuse("_rebuild_parameter without a tensor");
    return a[0];
  }
  refuse(fmt::format("REDUCE on {}, which deft never calls", callable->text));
}

ValuePtr Unpickler::run() {
  for (;;) {
    const auto op = static_cast<uint8_t>(*take(1));
    switch (op) {
      case 0x80:
        take(1);
        break;  // PROTO
      case 0x95:
        take(8);
        break;  // FRAME
      case '.':
        return pop();  // STOP
      case '(':
        marks_.push_back(stack_.size());
        break;  // MARK
      case '}':
        push(make(Kind::kDict));
        break;
      case ']':
        push(make(Kind::kList));
        break;
      case ')':
        push(make(Kind::kTuple));
        break;
      case 'N':
        push(make(Kind::kNone));
        break;
      case 0x88:
      case 0x89: {  // NEWTRUE, NEWFALSE
        auto v = make(Kind::kBool);
        v->number = op == 0x88;
        push(v);
        break;
      }
      case 'K':
        push(integer(static_cast<int64_t>(le(1))));
        break;  // BININT1
      case 'M':
        push(integer(static_cast<int64_t>(le(2))));
        break;  // BININT2
      case 'J':
        push(integer(static_cast<int32_t>(static_cast<uint32_t>(le(4)))));
        break;      // BININT
      case 0x8a: {  // LONG1
        const size_t n = static_cast<size_t>(le(1));
        if (n > 8) refuse("an integer wider than 64 bits");
        uint64_t v = n == 0 ? 0 : le(n);
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) != 0) v |= ~uint64_t{0} << (8 * n);  // sign
        push(integer(static_cast<int64_t>(v)));
        break;
      }
      case 'G': {  // BINFLOAT (big-endian double)
        const std::byte* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i)
          bits = (bits << 8) | static_cast<uint8_t>(p[i]);
        auto v = make(Kind::kFloat);
        std::memcpy(&v->number, &bits, 8);
        push(v);
        break;
      }
      case 'X':
        push(string(text(static_cast<size_t>(le(4)))));
        break;  // BINUNICODE
      case 0x8c:
        push(string(text(static_cast<size_t>(le(1)))));
        break;      // SHORT_BINUNICODE
      case 0x8d: {  // BINUNICODE8
        const uint64_t n = le(8);
        if (n > bytes_.size()) refuse("a string longer than the pickle");
        push(string(text(static_cast<size_t>(n))));
        break;
      }
      case 'U':
      case 'C':
        push(string(text(static_cast<size_t>(le(1)))));
        break;  // SHORT_BIN{STRING,BYTES}
      case 'T':
      case 'B':
        push(string(text(static_cast<size_t>(le(4)))));
        break;     // BIN{STRING,BYTES}
      case 'c': {  // GLOBAL
        const std::string module = line();
        global(module, line());
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const ValuePtr name = pop();
        const ValuePtr module = pop();
        if (name->kind != Kind::kString || module->kind != Kind::kString)
          refuse("STACK_GLOBAL without names");
        global(module->text, name->text);
        break;
      }
      case 'q':
        memo_[le(1)] = top();
        break;  // BINPUT
      case 'r':
        memo_[le(4)] = top();
        break;  // LONG_BINPUT
      case 0x94:
        memo_[memo_.size()] = top();
        break;  // MEMOIZE
      case 'h':
      case 'j': {  // BINGET, LONG_BINGET
        const auto it = memo_.find(le(op == 'h' ? 1 : 4));
        if (it == memo_.end()) refuse("GET of a value never PUT");
        push(it->second);
        break;
      }
      case 't': {  // TUPLE
        auto v = make(Kind::kTuple);
        v->items = pop_to_mark();
        push(v);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        auto v = make(Kind::kTuple);
        v->items.resize(op - 0x84);
        for (size_t i = v->items.size(); i-- > 0;)
          v->items[i] = pop();
        push(v);
        break;
      }
      case 'a': {  // APPEND
        const ValuePtr item = pop();
        if (top()->kind != Kind::kList) refuse("APPEND to something that is not a list");
        top()->items.push_back(item);
        break;
      }
      case 'e': {  // APPENDS
        const std::vector<ValuePtr> items = pop_to_mark();
        if (top()->kind != Kind::kList) refuse("APPENDS to something that is not a list");
        top()->items.insert(top()->items.end(), items.begin(), items.end());
        break;
      }
      case 's': {  // SETITEM
        const ValuePtr value = pop();
        const ValuePtr key = pop();
        set_items(top(), {key, value});
        break;
      }
      case 'u': {  // SETITEMS
        const std::vector<ValuePtr> items = pop_to_mark();
        set_items(top(), items);
        break;
      }
      case 'Q':
        push(persistent(pop()));
        break;     // BINPERSID
      case 'R': {  // REDUCE
        const ValuePtr args = pop();
        const ValuePtr callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 'b': {  // BUILD: an OrderedDict's __dict__ (state_dict()._metadata), dropped
        const ValuePtr state = pop();
        if (top()->kind != Kind::kDict ||
            (state->kind != Kind::kDict && state->kind != Kind::kNone))
          refuse("BUILD on something that is not a state dict");
        break;
      }
      default:
        refuse(fmt::format("opcode 0x{:02x} is not one a state dict of tensors needs", op));
    }
  }
}

}  // namespace

std::vector<PickledTensor> read_state_dict_pickle(std::span<const std::byte> pickle,
                                                  const std::filesystem::path& path) {
  Unpickler unpickler(pickle, path);
  const ValuePtr root = unpickler.run();
  const auto refuse = [&](const std::string& problem) {
    throw Error(ErrorKind::kInput, fmt::format("'{}': {}", path.string(), problem),
                "deft reads plain state dicts {name: tensor}, as save_pretrained writes them");
  };
  if (root->kind != Kind::kDict) refuse("the pickle holds no dict of tensors");
  std::vector<PickledTensor> tensors;
  for (const auto& [key, value] : root->entries) {
    if (key->kind != Kind::kString) refuse("a state dict key is not a string");
    if (value->kind != Kind::kTensor)
      refuse(fmt::format("'{}' is not a tensor (a training checkpoint rather than a state dict?)",
                         key->text));
    tensors.push_back(value->tensor);
    tensors.back().name = key->text;
  }
  return tensors;
}

}  // namespace deft::model
