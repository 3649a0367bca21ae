// Events: the transactional outbox (outbox.h), its relay to NATS JetStream
// (relay.h, streams.h), durable consumers with inbox deduplication
// (consumer.h), and dead letters (dead_letters.h). This header includes them
// all.
//
// Delivery is at least once with exactly-once effects: a handler's events
// commit with its writes (AddToOutbox), the relay marks a row sent only after
// JetStream acked it (Nats-Msg-Id = event id, so a republished row is
// dropped as a duplicate inside the stream's duplicate window), and a
// consumer applies an event in the same transaction that inserts its inbox
// row, so a redelivery finds the row and is acked without running the
// handler again. nats-server 2.9 acks before its file store syncs to disk:
// sent rows are kept for `retention` so a lost stream can be republished.
#pragma once

#include "cppsvc/events/consumer.h"
#include "cppsvc/events/dead_letters.h"
#include "cppsvc/events/outbox.h"
#include "cppsvc/events/relay.h"
#include "cppsvc/events/streams.h"
