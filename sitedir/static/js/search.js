// Search page enhancements. The page works without this file: the list is always there.
// - "Use my location": fills the place box with the browser's position (rounded to ~100 m).
// - The map of results, when Leaflet and a tile URL are available.
(function () {
  "use strict";

  var button = document.getElementById("use-location");
  var near = document.getElementById("near");
  var message = document.getElementById("location-message");
  if (button && near && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      message.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(function (position) {
        near.value = position.coords.latitude.toFixed(3) + "," + position.coords.longitude.toFixed(3);
        message.textContent = "Searching near your location.";
        near.form.submit();
      }, function () {
        message.textContent = "Your location is not available. Enter a postcode or place instead.";
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 });
    });
  }

  var mapElement = document.getElementById("results-map");
  var data = document.getElementById("map-points");
  if (!mapElement || !data || typeof window.L === "undefined") {
    return;
  }
  var points = JSON.parse(data.textContent);
  if (!points.length) {
    return;
  }
  mapElement.hidden = false;
  var L = window.L;
  L.Icon.Default.imagePath = mapElement.dataset.markerIcon;
  var map = L.map(mapElement, { scrollWheelZoom: false });
  L.tileLayer(mapElement.dataset.tileUrl, {
    maxZoom: 18,
    attribution: mapElement.dataset.attribution
  }).addTo(map);
  // Markers closer than a touch target would overlap, be impossible to tell apart and fail
  // WCAG 2.5.8: at each zoom level, listings within MERGE_PIXELS share one marker whose popup
  // lists them all.
  var MERGE_PIXELS = 34;
  var layer = L.layerGroup().addTo(map);

  function groupsAtZoom() {
    var groups = [];
    points.forEach(function (point) {
      var at = map.latLngToLayerPoint([point.lat, point.lon]);
      var home = groups.find(function (group) { return group.at.distanceTo(at) < MERGE_PIXELS; });
      if (home) {
        home.points.push(point);
      } else {
        groups.push({ at: at, points: [point] });
      }
    });
    return groups;
  }

  function describe(group) {
    var first = group[0];
    if (group.length === 1) {
      return first.title + (first.approximate ? " (approximate location)" : "");
    }
    return group.length + " activities: " + group.map(function (p) { return p.title; }).join(", ");
  }

  function popupFor(group) {
    var list = document.createElement("ul");
    list.className = "govuk-list";
    group.forEach(function (point) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.className = "govuk-link";
      link.href = point.url;
      link.textContent = point.title;
      item.appendChild(link);
      list.appendChild(item);
    });
    return list;
  }

  function draw() {
    layer.clearLayers();
    groupsAtZoom().forEach(function (group) {
      var first = group.points[0];
      var title = describe(group.points);
      L.marker([first.lat, first.lon], { title: title, alt: title, keyboard: true })
        .bindPopup(popupFor(group.points)).addTo(layer);
    });
  }

  var bounds = points.map(function (point) { return [point.lat, point.lon]; });
  if (mapElement.dataset.centre) {
    var centre = mapElement.dataset.centre.split(",").map(Number);
    var miles = Number(mapElement.dataset.radius || 5);
    var metres = miles * 1609.344;
    map.fitBounds(L.latLng(centre).toBounds(metres * 2));
    L.circle(centre, { radius: metres, fill: false, weight: 2, interactive: false }).addTo(map);
  } else {
    map.fitBounds(bounds, { maxZoom: 14, padding: [20, 20] });
  }
  draw();
  map.on("zoomend", draw);
})();
