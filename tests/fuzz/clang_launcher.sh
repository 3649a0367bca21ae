#!/usr/bin/env bash
# Compiler launcher for the fuzz targets: CMake builds the project with one
# C++ compiler (g++); libFuzzer needs clang. The launcher replaces the
# compiler in the command CMake runs (compile or link) with clang++-14, so a
# fuzz target links the same g++-built libraries as every other test.
shift
exec clang++-14 "$@"
