#include "select/path_names.h"

namespace deft::select {

std::string path_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string path_stem(std::string_view path) {
  const std::string name = path_name(path);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 || dot + 1 == name.size() ? name
                                                                        : name.substr(0, dot);
}

}  // namespace deft::select
