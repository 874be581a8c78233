"""A tlog witness (c2sp.org/tlog-witness) an oversight department runs on its own machine.

* :mod:`audit.witness.cosignature`: timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature,
  ``cosignature/v1``, signature type 0x04): signing, verifying, verifier keys;
* :mod:`audit.witness.state`: the witness's key and SQLite state (the logs it knows, the latest
  checkpoint it cosigned for each, the refused submissions kept as evidence);
* :mod:`audit.witness.protocol`: ``add-checkpoint`` — every check of the spec, in its order, and
  the atomic check-and-record;
* :mod:`audit.witness.server`: the HTTP interface as a WSGI application (served by waitress).
"""
