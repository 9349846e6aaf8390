# cmake/mpi.cmake - the optional MPI mode of `rostrum scan` (host/cluster.c,
# docs/cluster.md). Included from the top-level CMakeLists.txt after the
# rostrum library target exists.
#
# RS_MPI defaults to ON when an MPI implementation for C is found (Debian,
# Ubuntu: apt-get install libopenmpi-dev openmpi-bin). With it, librostrum
# links MPI and host/cluster.c is compiled with RS_HAVE_MPI; without it,
# cluster.c compiles to the single-process stubs and rostrum refuses to run
# under mpirun (every rank would scan everything).
find_package(MPI COMPONENTS C QUIET)
if(MPI_C_FOUND)
  option(RS_MPI "Build the MPI mode of rostrum scan (mpirun -np N rostrum scan ...)" ON)
else()
  option(RS_MPI "Build the MPI mode of rostrum scan (mpirun -np N rostrum scan ...)" OFF)
endif()

if(RS_MPI)
  if(NOT MPI_C_FOUND)
    message(FATAL_ERROR "RS_MPI is ON but no MPI for C was found "
                        "(apt-get install libopenmpi-dev openmpi-bin, or -DRS_MPI=OFF)")
  endif()
  target_link_libraries(rostrum PUBLIC MPI::MPI_C)
  target_compile_definitions(rostrum PRIVATE RS_HAVE_MPI=1)
  # for tests/CMakeLists.txt: the launcher and its flags
  set(RS_MPIEXEC ${MPIEXEC_EXECUTABLE} CACHE INTERNAL "MPI launcher for the ctest cases")
  message(STATUS "rostrum: MPI mode ON (${MPI_C_LIBRARIES}; launcher ${MPIEXEC_EXECUTABLE})")
else()
  message(STATUS "rostrum: MPI mode OFF")
endif()
