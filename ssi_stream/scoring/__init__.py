"""ssi_stream.scoring"""
