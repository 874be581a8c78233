"""The audit side: an RFC 6962 Merkle log over the stored events, signed tree heads and proofs."""
