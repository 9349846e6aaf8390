
%
1	first
2	second
%
alpha	1
beta	2 1
