#!/bin/sh
# One-shot topic creation for deploy/compose.yaml: the broker refuses to create topics on demand
# (auto.create.topics.enable=false), as in production, so a typo in a topic name fails loudly.
# TOPICS, PARTITIONS and BOOTSTRAP come from the compose file; creating twice is harmless.
set -eu

for topic in ${TOPICS}; do
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "${BOOTSTRAP}" --create --if-not-exists \
    --topic "${topic}" --partitions "${PARTITIONS}" --replication-factor 1
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "${BOOTSTRAP}" --list
