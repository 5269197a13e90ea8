#pragma once
// The one oneDNN CPU engine every deft kernel runs on (an engine per kernel file would mean
// separate caches and thread set-up).

#include <oneapi/dnnl/dnnl.hpp>

namespace deft::kernels {

dnnl::engine& cpu_engine();

}  // namespace deft::kernels
