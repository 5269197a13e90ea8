#pragma once
// Runs a producer on its own thread, a bounded number of items ahead of the consumer: the
// table reading of one block overlaps the search of the previous one (DuckDB decodes on one
// core while the search's threads use the others). An exception in the producer reaches the
// consumer where it takes the next item; a consumer that stops (or throws) stops the producer.
//
//   Prefetch<Block> ahead(2, [&](const auto& give) { while (...) if (!give(make())) return; });
//   while (std::optional<Block> b = ahead.next()) use(*b);

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <sys/resource.h>
#include <unistd.h>

namespace deft {

template <typename T>
class Prefetch {
 public:
  // give(item) queues an item, waiting while `depth` are queued; false once the consumer has
  // stopped (the producer should return).
  using Give = std::function<bool(T&&)>;
  using Producer = std::function<void(const Give&)>;

  // `yield`: the producer runs at the lowest priority (nice 19), so that it takes only the
  // cycles the consumer's threads leave: with as many compute threads as cores, a producer at
  // equal priority takes half of one core from a statically shared loop, and every other
  // thread then waits for that one at the loop's end.
  Prefetch(size_t depth, Producer producer, bool yield = false) : depth_(depth) {
    thread_ = std::thread([this, yield, producer = std::move(producer)] {
      if (yield) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
      try {
        producer([this](T&& item) { return give(std::move(item)); });
      } catch (...) {
        std::lock_guard lock(mutex_);
        failure_ = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      done_ = true;
      changed_.notify_all();
    });
  }
  ~Prefetch() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      changed_.notify_all();
    }
    thread_.join();
  }
  Prefetch(const Prefetch&) = delete;
  Prefetch& operator=(const Prefetch&) = delete;

  // The next item; nullopt after the last. Rethrows the producer's exception.
  std::optional<T> next() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (!queue_.empty()) {
      T item = std::move(queue_.front());
      queue_.pop_front();
      changed_.notify_all();
      return item;
    }
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    return std::nullopt;
  }

 private:
  bool give(T&& item) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < depth_ || stopped_; });
    if (stopped_) return false;
    queue_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }

  size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> queue_;
  bool done_ = false;
  bool stopped_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

}  // namespace deft
