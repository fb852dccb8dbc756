"""Ends media that would otherwise stay PROCESSING forever: the upload expiry sweep and the
probe's on-failure handler."""
