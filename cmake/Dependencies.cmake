# Debian packages installed by scripts/install-deps.sh.
find_package(Threads REQUIRED)

# CAF 0.17.6 ships no CMake config: find it by hand.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf::core INTERFACE IMPORTED)
target_include_directories(caf::core INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf::core INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)
add_library(caf::io INTERFACE IMPORTED)
target_link_libraries(caf::io INTERFACE ${CAF_IO_LIBRARY} caf::core)

find_package(Boost 1.74 REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(Catch2 REQUIRED)

# Gloo: the collectives between processes over TCP (tensor and pipeline
# parallelism across worker processes). Its config names the target `gloo`.
find_package(Gloo CONFIG REQUIRED)

# OpenBLAS for the CPU backend's GEMMs, in its OpenMP build: the backend's
# own loops use OpenMP too, and two thread pools spinning on the same cores
# cost 2-3x in decode throughput. The pthread build is the fallback.
find_path(CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas REQUIRED)
set(OPENBLAS_OPENMP_DIR /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp)
find_library(OPENBLAS_LIBRARY openblas PATHS ${OPENBLAS_OPENMP_DIR} NO_DEFAULT_PATH)
if(OPENBLAS_LIBRARY)
  # The soname resolves through Debian's alternatives to whichever build has
  # priority; the run path pins the OpenMP one.
  list(APPEND CMAKE_INSTALL_RPATH ${OPENBLAS_OPENMP_DIR})
  set(CMAKE_BUILD_RPATH ${OPENBLAS_OPENMP_DIR})
else()
  find_library(OPENBLAS_LIBRARY openblas REQUIRED)
  message(WARNING "pagedserve: OpenBLAS's OpenMP build not found; the pthread build competes with OpenMP for cores")
endif()
add_library(openblas::openblas INTERFACE IMPORTED)
target_include_directories(openblas::openblas INTERFACE ${CBLAS_INCLUDE_DIR})
target_link_libraries(openblas::openblas INTERFACE ${OPENBLAS_LIBRARY})

# OpenMP spreads the CPU backend's attention and element-wise loops over cores.
find_package(OpenMP REQUIRED COMPONENTS CXX)

# PCRE2 runs tokenizer.json's Split patterns (Unicode classes, lookahead);
# ICU provides the NFC normalizer and Unicode whitespace.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_package(ICU REQUIRED COMPONENTS uc)
