"""Benchmarks of w2vfast side by side with gensim, Google's word2vec C tool and fastText."""
