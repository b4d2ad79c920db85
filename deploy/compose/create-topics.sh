#!/bin/sh
# One-shot topic creation for deploy/compose.yaml: the broker refuses to create topics on demand
# (auto.create.topics.enable=false), as in production, so a typo in a topic name fails loudly.
# TOPICS, HISTORY_TOPICS, PARTITIONS and BOOTSTRAP come from the compose file; running twice is harmless.
#
# HISTORY_TOPICS are the event streams reporting's projection is built from (a rebuild reads them
# from the first offset): they keep every event for the life of the stack
# (retention.ms and retention.bytes -1), set again on every run so a topic created before this rule
# gets it too. The other topics keep the broker's default; the dead-letter topics are not history
# (their records stay on the streams they were copied from), so they are not kept for ever.
#
# COMPACT_TOPICS (the contacts topic: a self-referrer's own address, keyed by referral id) get COMPACT_CONFIG:
# compacted, so erasure's tombstone removes the address, within max.compaction.lag.ms (deploy/README.md).
set -eu

for topic in ${TOPICS}; do
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "${BOOTSTRAP}" --create --if-not-exists \
    --topic "${topic}" --partitions "${PARTITIONS}" --replication-factor 1
done
for topic in ${HISTORY_TOPICS}; do
  /opt/kafka/bin/kafka-configs.sh --bootstrap-server "${BOOTSTRAP}" --alter --entity-type topics \
    --entity-name "${topic}" --add-config retention.ms=-1,retention.bytes=-1
done
for topic in ${COMPACT_TOPICS}; do
  /opt/kafka/bin/kafka-configs.sh --bootstrap-server "${BOOTSTRAP}" --alter --entity-type topics \
    --entity-name "${topic}" --add-config "${COMPACT_CONFIG}"
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "${BOOTSTRAP}" --list
