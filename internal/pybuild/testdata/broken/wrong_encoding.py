#!/usr/bin/env python
# -*- coding: ascii -*-
name = "café"
