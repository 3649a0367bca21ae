#include "model/check.h"

#include "model/checker.h"

namespace cppsvc::model {
namespace checks {

void Checker::Run() {
  CheckRoles();
  CheckRequiredCycles();
  CheckGeneratedClassNames();
  for (const File& file : model_.files) {
    CheckCppNames(file);
    for (const std::string& name : file.messages) CheckMessage(model_.messages.at(name));
    for (const Service& service : file.services) CheckService(service);
    for (const Saga& saga : file.sagas) CheckSaga(saga);
    CheckStorage(file);
  }
  CheckGlobalUniqueness();
}

}  // namespace checks

void Check(const Model& model, diag::Diagnostics& diags) {
  checks::Checker(model, diags).Run();
}

}  // namespace cppsvc::model
