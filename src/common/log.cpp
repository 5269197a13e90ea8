#include "common/log.h"

namespace deft::log {

Sink& sink() {
  static Sink instance;
  return instance;
}

}  // namespace deft::log
