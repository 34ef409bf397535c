"""ssi_stream.ops"""
