"""Retention (policy 462.4, Government Code 34090.6): which reads are held, the purge of reads past the
retention period from every copy of the read data, and how old the reads that searches returned were."""
