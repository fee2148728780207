# Install-time half of cmake/Install.cmake: writes the unit and the default
# configuration with the paths of this install (CMAKE_INSTALL_PREFIX here is
# the prefix in force now: /usr under cpack). /usr's configuration goes to
# /etc, any other prefix's to PREFIX/etc, as GNUInstallDirs does.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(conf_dir /etc/pagedserve)
  set(logrotate_dir /etc/logrotate.d)
else()
  set(conf_dir ${prefix}/etc/pagedserve)
  set(logrotate_dir ${prefix}/etc/logrotate.d)
endif()
# A directory of this install's own: installs may run at once (tests/package).
string(RANDOM LENGTH 12 install_id)
set(staging "${pagedserve_binary_dir}/install-configured/${install_id}")

file(READ ${pagedserve_source_dir}/conf/pagedserve.service unit_text)
string(REPLACE "/usr/bin/pagedserve" "${prefix}/bin/pagedserve" unit_text "${unit_text}")
string(REPLACE "/etc/pagedserve" "${conf_dir}" unit_text "${unit_text}")
file(WRITE ${staging}/pagedserve.service "${unit_text}")

file(READ ${pagedserve_source_dir}/conf/pagedserve.json conf_text)
string(REPLACE "\"models/stories260K\"" "\"${prefix}/share/pagedserve/models/stories260K\"" conf_text "${conf_text}")
file(WRITE ${staging}/pagedserve.json "${conf_text}")

# file(INSTALL) honours DESTDIR, as the generated install rules do.
file(INSTALL ${staging}/pagedserve.service DESTINATION ${prefix}/lib/systemd/system)
file(INSTALL ${staging}/pagedserve.json DESTINATION ${conf_dir})
file(INSTALL ${pagedserve_source_dir}/conf/debian/logrotate DESTINATION ${logrotate_dir} RENAME pagedserve)

# Debian's documentation files, for a package (harmless elsewhere).
set(doc_dir ${prefix}/share/doc/pagedserve)
execute_process(COMMAND gzip -9nc ${pagedserve_source_dir}/conf/debian/changelog
                OUTPUT_FILE ${staging}/changelog.gz RESULT_VARIABLE gzip_failed)
if(gzip_failed)
  message(FATAL_ERROR "gzip of conf/debian/changelog failed")
endif()
file(INSTALL ${staging}/changelog.gz ${pagedserve_source_dir}/conf/debian/copyright DESTINATION ${doc_dir})
file(REMOVE_RECURSE ${staging})
