# `cmake --install` puts pagedserve in FHS places under CMAKE_INSTALL_PREFIX;
# `cpack` (from any build directory) builds a .deb installed under /usr with
# its configuration in /etc/pagedserve. Files that name other installed
# files (the unit, the configuration) are written at install time, from the
# prefix then in force (cmake/InstallConfigured.cmake).
include(GNUInstallDirs)

install(TARGETS pagedserve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/stories260K
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pagedserve/models)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(CODE "set(pagedserve_source_dir \"${PROJECT_SOURCE_DIR}\")\nset(pagedserve_binary_dir \"${CMAKE_BINARY_DIR}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/InstallConfigured.cmake)
# The package's own files: logrotate, and lintian's explained overrides,
# the CUDA module's only in a build that has the module.
set(overrides_dir ${PROJECT_SOURCE_DIR}/conf/debian)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${overrides_dir}/lintian-overrides ${overrides_dir}/lintian-overrides-cuda)
file(READ ${overrides_dir}/lintian-overrides overrides)
if(TARGET pagedserve_cuda)
  file(READ ${overrides_dir}/lintian-overrides-cuda cuda_overrides)
  string(APPEND overrides "\n${cuda_overrides}")
endif()
file(WRITE ${CMAKE_BINARY_DIR}/debian/lintian-overrides "${overrides}")
install(FILES ${CMAKE_BINARY_DIR}/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME pagedserve)
# `make install`/cpack do not rebuild every test first: build pagedserve, then package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pagedserve)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LLM serving engine built around PagedAttention")
set(CPACK_PACKAGE_DESCRIPTION "pagedserve serves OpenAI-compatible completions, chat and streaming
over HTTP, SSE and WebSocket from a paged KV cache, with a CPU backend and an
optional CUDA backend. It ships a small embedded model and a systemd unit.")
set(CPACK_PACKAGE_CONTACT "pagedserve maintainers <pagedserve@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Depends comes from dpkg-shlibdeps on the built binary, at package time
# (cmake/PackageDepends.cmake), with OpenBLAS pinned to its OpenMP build.
set(CPACK_PAGEDSERVE_BINARY ${CMAKE_BINARY_DIR}/pagedserve)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/cmake/PackageDepends.cmake)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles "/etc/pagedserve/pagedserve.json\n/etc/logrotate.d/pagedserve\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/conf/debian/postinst ${PROJECT_SOURCE_DIR}/conf/debian/prerm
    ${PROJECT_SOURCE_DIR}/conf/debian/postrm ${CMAKE_BINARY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
