# Finds DuckDB's C API: include/duckdb.h and lib/libduckdb.so.
# Looks in DUCKDB_ROOT (a CMake or environment variable) first, then in third_party/duckdb
# (where scripts/install-duckdb.sh unpacks it), then in the system paths.
# Defines the imported target DuckDB::duckdb.

set(_duckdb_hints)
if(DUCKDB_ROOT)
  list(APPEND _duckdb_hints "${DUCKDB_ROOT}")
endif()
if(DEFINED ENV{DUCKDB_ROOT})
  list(APPEND _duckdb_hints "$ENV{DUCKDB_ROOT}")
endif()
list(APPEND _duckdb_hints "${PROJECT_SOURCE_DIR}/third_party/duckdb")

find_path(DuckDB_INCLUDE_DIR duckdb.h HINTS ${_duckdb_hints} PATH_SUFFIXES include)
find_library(DuckDB_LIBRARY duckdb HINTS ${_duckdb_hints} PATH_SUFFIXES lib)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DuckDB
  REQUIRED_VARS DuckDB_LIBRARY DuckDB_INCLUDE_DIR
  FAIL_MESSAGE "DuckDB not found: run scripts/setup.sh, or pass -DDUCKDB_ROOT=<prefix>")

if(DuckDB_FOUND AND NOT TARGET DuckDB::duckdb)
  add_library(DuckDB::duckdb SHARED IMPORTED)
  set_target_properties(DuckDB::duckdb PROPERTIES
    IMPORTED_LOCATION "${DuckDB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${DuckDB_INCLUDE_DIR}")
endif()
mark_as_advanced(DuckDB_INCLUDE_DIR DuckDB_LIBRARY)
