#pragma once
// Buffers a consumer is done with, handed back to the thread that fills them: a reader a block
// ahead of a search (common/prefetch.h) refills the block the search just finished instead of
// allocating one, whose fresh pages would all fault in again, every block.
//
//   SpareBuffers<Block> spare;
//   Block b = spare.take();          // on the reading thread: a used one, or a new empty one
//   spare.give_back(std::move(b));   // on the consuming thread, once done with it

#include <mutex>
#include <utility>
#include <vector>

namespace deft {

template <typename T>
class SpareBuffers {
 public:
  T take() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return T{};
    T item = std::move(spare_.back());
    spare_.pop_back();
    return item;
  }
  void give_back(T&& item) {
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(item));
  }

 private:
  std::mutex mutex_;
  std::vector<T> spare_;
};

}  // namespace deft
