"""ssi_stream.ranking"""
