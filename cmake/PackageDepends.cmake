# Read by cpack (CPACK_PROJECT_CONFIG_FILE): the package's Depends, from
# dpkg-shlibdeps on the binary being packaged, so it names exactly the
# libraries pagedserve links. OpenBLAS is pinned to its OpenMP build:
# `libopenblas0` lets apt pick the pthread build, whose threads fight our
# OpenMP loops (several times slower at batch 1).
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
set(work "${CPACK_TOPLEVEL_DIRECTORY}/shlibdeps")
file(MAKE_DIRECTORY "${work}/debian")
file(TOUCH "${work}/debian/control")
execute_process(COMMAND dpkg-shlibdeps -O "${CPACK_PAGEDSERVE_BINARY}"
                WORKING_DIRECTORY "${work}" OUTPUT_VARIABLE substvars ERROR_VARIABLE warnings
                RESULT_VARIABLE failed)
if(failed OR NOT substvars MATCHES "shlibs:Depends=([^\n]*)")
  message(FATAL_ERROR "dpkg-shlibdeps failed on ${CPACK_PAGEDSERVE_BINARY}: ${warnings}")
endif()
set(depends "${CMAKE_MATCH_1}")
string(REGEX REPLACE "libopenblas0(-[a-z]+)?( \\([^)]*\\))?" "libopenblas0-openmp" depends "${depends}")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${depends}, adduser")
