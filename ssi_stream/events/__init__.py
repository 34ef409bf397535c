"""ssi_stream.events"""
