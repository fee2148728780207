# `cmake --install` puts pagedserve in FHS places; CPack builds a .deb whose
# install creates the service user and enables nothing. Build the package
# from a -DCMAKE_INSTALL_PREFIX=/usr configuration (then the config goes to
# /etc/pagedserve); every installed path below follows the prefix.
include(GNUInstallDirs)
set(conf_dir ${CMAKE_INSTALL_FULL_SYSCONFDIR}/pagedserve)

install(TARGETS pagedserve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/stories260K
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pagedserve/models)
# The unit names the installed binary and config.
file(READ ${PROJECT_SOURCE_DIR}/conf/pagedserve.service unit_text)
string(REPLACE "/usr/bin/pagedserve" "${CMAKE_INSTALL_FULL_BINDIR}/pagedserve" unit_text "${unit_text}")
string(REPLACE "/etc/pagedserve" "${conf_dir}" unit_text "${unit_text}")
file(WRITE ${CMAKE_BINARY_DIR}/pagedserve.service "${unit_text}")
install(FILES ${CMAKE_BINARY_DIR}/pagedserve.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The installed configuration points at the installed model.
set(installed_conf ${CMAKE_BINARY_DIR}/pagedserve.installed.json)
if(EXISTS ${PROJECT_SOURCE_DIR}/conf/pagedserve.json)
  file(READ ${PROJECT_SOURCE_DIR}/conf/pagedserve.json conf_text)
  string(REPLACE "\"models/stories260K\"" "\"${CMAKE_INSTALL_FULL_DATADIR}/pagedserve/models/stories260K\""
         conf_text "${conf_text}")
  file(WRITE ${installed_conf} "${conf_text}")
  install(FILES ${installed_conf} DESTINATION ${conf_dir} RENAME pagedserve.json)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pagedserve)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LLM serving engine built around PagedAttention")
set(CPACK_PACKAGE_CONTACT "pagedserve maintainers <pagedserve@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcaf-core0.17, libcaf-io0.17, libsimdjson14, libopenblas0, adduser")
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles "${conf_dir}/pagedserve.json\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/conf/debian/postinst ${CMAKE_BINARY_DIR}/debian/conffiles)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)
