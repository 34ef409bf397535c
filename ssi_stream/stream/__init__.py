"""ssi_stream.stream"""
