// MathJax 3 settings for pymdownx.arithmatex (generic mode): typeset only the
// maths that arithmatex marked. MathJax itself is served from this site
// (javascripts/mathjax/, copied there by docs/_hooks/offline_maths.py).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
