#include "work.h"

namespace saga_bench {

void RecordFlow(pqxx::transaction_base& tx, const std::string& flow_id) {
  tx.exec_params("INSERT INTO flows (id, status) VALUES ($1, 'started')", flow_id);
}

void RecordProgress(pqxx::transaction_base& tx,
                    const std::string& flow_id,
                    const std::string& step) {
  tx.exec_params("UPDATE flows SET status = $2 WHERE id = $1 AND status = 'started'",
                 flow_id,
                 step);
}

void CompleteFlow(pqxx::transaction_base& tx, const std::string& flow_id) {
  tx.exec_params("UPDATE flows SET status = 'completed' WHERE id = $1", flow_id);
}

void RecordStep(pqxx::transaction_base& tx, const std::string& flow_id, const std::string& step) {
  tx.exec_params("INSERT INTO step_runs (id, flow_id, step) VALUES (gen_random_uuid(), $1, $2)",
                 flow_id,
                 step);
}

int64_t CountSteps(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT count(*) FROM step_runs")[0].as<int64_t>();
}

}  // namespace saga_bench
