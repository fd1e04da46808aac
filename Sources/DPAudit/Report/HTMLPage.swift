/// The frame of dpfl's HTML pages (`dpfl report`, `dpfl plan --report`): one self-contained
/// file with its style inline and nothing fetched, so it reads offline.
public enum HTMLPage {
  /// The page with `title` and the `body` elements, one per line.
  public static func render(title: String, body: [String]) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8">
    <title>\(LineChart.escaped(title))</title>
    <style>
    body { font-family: sans-serif; max-width: 960px; margin: 2em auto; color: #222; }
    table { border-collapse: collapse; margin: 1em 0; }
    th, td { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }
    th { font-weight: 600; }
    figure { margin: 1em 0; }
    </style></head>
    <body>
    \(body.joined(separator: "\n"))
    \(selfCheck)
    </body></html>

    """
  }

  /// A few lines the browser runs on load (nothing is fetched): they count the figures whose
  /// lines have a drawn extent and write it to `data-figures` on `<body>` ("drawn/total"),
  /// which `Scripts/report-check` reads from headless Chromium.
  static let selfCheck = """
    <script>
    window.addEventListener("load", () => {
      const charts = [...document.querySelectorAll("svg.chart")];
      const drawn = charts.filter(svg => [...svg.querySelectorAll("polyline.series")].some(line => {
        const box = line.getBBox();
        return box.width > 0 || box.height > 0 || line.points.numberOfItems === 1;
      }));
      document.body.dataset.figures = drawn.length + "/" + charts.length;
    });
    </script>
    """
}
