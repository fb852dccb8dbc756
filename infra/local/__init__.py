"""The whole system on one machine: moto on loopback, the real handlers, the template's own resources."""
