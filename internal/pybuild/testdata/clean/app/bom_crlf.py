X = 1
if X:
    Y = 2
