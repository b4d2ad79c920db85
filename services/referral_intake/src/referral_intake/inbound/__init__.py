"""The inbound Kafka topic: integration engines that prefer a stream send referrals as CloudEvents.

producers.py says who may send (INBOUND_PRODUCERS), message.py reads a message into a referral with the
REST route's own checks, receive.py is the use case, replies.py builds the answers, handler.py ties
them to the kit's consumer (a refusal is dead-lettered and answered).
"""
