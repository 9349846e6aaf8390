# a tsv without its extension
first	alpha
second	beta
