# The CUDA backend is built whenever nvcc is found; without it the build
# still succeeds and the CPU backend is the only one.
option(PAGEDSERVE_WITH_CUDA "Build the CUDA backend when nvcc is found" ON)
set(PAGEDSERVE_CUDA_FOUND OFF)
if(PAGEDSERVE_WITH_CUDA)
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # The local GPU's architecture when there is one; else Ampere (sm_80),
    # Ada (sm_89) and Hopper (sm_90). The tensor-core kernels need sm_80+.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      execute_process(COMMAND nvidia-smi --query-gpu=compute_cap --format=csv,noheader
                      OUTPUT_VARIABLE local_cap ERROR_QUIET RESULT_VARIABLE smi_failed)
      string(REGEX MATCH "^[0-9]+\\.[0-9]+" local_cap "${local_cap}")
      if(NOT smi_failed AND local_cap)
        string(REPLACE "." "" local_arch "${local_cap}")
        set(CMAKE_CUDA_ARCHITECTURES ${local_arch})
      else()
        set(CMAKE_CUDA_ARCHITECTURES "80;89;90")
      endif()
    endif()
    set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
    enable_language(CUDA)
    # CUDA sources follow the project's C++20 (CUDA_STANDARD falls back to
    # CXX_STANDARD); CMake 3.25 predates nvcc's C++20 support, so name its flag.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    find_package(CUDAToolkit REQUIRED)
    set(PAGEDSERVE_CUDA_FOUND ON)
    message(STATUS "pagedserve: nvcc found, CUDA backend for architectures ${CMAKE_CUDA_ARCHITECTURES}")
  else()
    message(STATUS "pagedserve: nvcc not found, CUDA backend OFF")
  endif()
endif()
