# pypi_ros_fix.cmake -- re-point the PyPI ROS wheels' baked-in /opt/python/... include dirs.
# The wheels' exported Python-binding targets name the include folders of the machine they were
# built on; CMake refuses to generate until they point at this interpreter's (see ROS2_NOTES.md).
function(_pypi_ros_fix_python_includes)
  if(NOT Python3_EXECUTABLE)
    find_program(Python3_EXECUTABLE python3)
  endif()
  execute_process(
    COMMAND "${Python3_EXECUTABLE}" -c "import sysconfig, numpy; print(sysconfig.get_paths()['include'] + ';' + numpy.get_include(), end='')"
    OUTPUT_VARIABLE _good RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(WARNING "pypi_ros_fix: could not query ${Python3_EXECUTABLE}")
    return()
  endif()
  get_property(_imported DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(_t IN LISTS _imported)
    get_target_property(_inc ${_t} INTERFACE_INCLUDE_DIRECTORIES)
    if(_inc AND "${_inc}" MATCHES "/opt/python/")
      list(FILTER _inc EXCLUDE REGEX "^/opt/python/")
      list(APPEND _inc ${_good})
      list(REMOVE_DUPLICATES _inc)
      set_target_properties(${_t} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_inc}")
    endif()
  endforeach()
endfunction()
if(NOT _PYPI_ROS_FIX_DEFERRED)
  set(_PYPI_ROS_FIX_DEFERRED TRUE)
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _pypi_ros_fix_python_includes)
endif()
