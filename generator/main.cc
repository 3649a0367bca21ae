#include <google/protobuf/compiler/plugin.h>

#include "generator.h"

int main(int argc, char* argv[]) {
  cppsvc::CppSvcGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
