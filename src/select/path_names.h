#pragma once
// The parts of a filepath the reference matches on, as Python's pathlib names them: the
// basename (Path(p).name: after the last '/', trailing slashes ignored) and the stem (the name
// without its last suffix; a leading dot is not a suffix).
//
//   path_name("imgs/0001.jpg") == "0001.jpg";  path_stem("imgs/0001.jpg") == "0001"

#include <string>
#include <string_view>

namespace deft::select {

std::string path_name(std::string_view path);
std::string path_stem(std::string_view path);

}  // namespace deft::select
