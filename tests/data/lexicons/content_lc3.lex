+first
alpha
+second
beta
alpha
