"""Evidence packages on portable media: manifest with SHA-256, chain of custody, verification, custody
transfers and encryption (policy 462.4). See :mod:`alpr_lib.evidence.package`."""

from alpr_lib.evidence.package import EvidenceKey, PackageCheck, decrypt_package, verify_package

__all__ = ["EvidenceKey", "PackageCheck", "decrypt_package", "verify_package"]
