// Package localtarget is the platform of apps on this machine: releases built for its Python,
// rolled out by the pyship agent behind its proxy.
package localtarget
