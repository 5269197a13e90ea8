#pragma once
// OpenBLAS picks its kernels by CPU model when it loads, and a model it does not know (a newer
// Xeon, or one a hypervisor names "Intel Xeon Processor") gets its oldest, SSE3 "Prescott"
// kernel: mining's searches ran 2.4× slower that way on this project's machines. This names
// the core OpenBLAS should have chosen, for OPENBLAS_CORETYPE (read only at load: the caller
// starts the process again with it set).
//
//   if (std::string core = kernels::better_openblas_core(); !core.empty()) ... setenv, execv

#include <string>

namespace deft::kernels {

// "SkylakeX" (AVX-512 F/BW/VL/DQ) or "Haswell" (AVX2 + FMA) when the loaded OpenBLAS chose a
// core that uses neither; "" when it chose well, OPENBLAS_CORETYPE is already set, or no
// OpenBLAS is loaded.
std::string better_openblas_core();

}  // namespace deft::kernels
