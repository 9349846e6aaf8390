first: [alpha]
second:
  - beta
